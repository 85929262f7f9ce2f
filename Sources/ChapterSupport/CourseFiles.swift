/// Files one chapter writes and others read, relative to the repository root (where the
/// chapters run).
public enum CourseFiles {
    /// Chapter 6's evaluation classifier, the judge of Chapters 6–8.
    public static let classifier = "output/Chapter06-FashionMNIST/classifier.safetensors"
    /// Chapter 6's committed model, which Chapter 7 samples.
    public static let chapter6Model = "output/Chapter06-FashionMNIST/unet.safetensors"
}
