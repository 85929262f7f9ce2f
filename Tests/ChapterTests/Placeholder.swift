import Testing

@Test func placeholderChapterTests() { #expect(1 + 1 == 2) }
