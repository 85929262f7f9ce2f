import Testing

@Test func placeholderFiguresTests() { #expect(1 + 1 == 2) }
