import Testing

@Test func placeholderDiffusionTests() { #expect(1 + 1 == 2) }
