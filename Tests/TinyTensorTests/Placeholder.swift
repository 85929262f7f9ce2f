import Testing

@Test func placeholderTinyTensorTests() { #expect(1 + 1 == 2) }
