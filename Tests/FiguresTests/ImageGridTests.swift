import Testing
import TinyTensor
@testable import Figures

@Suite struct ImageGridTests {
    @Test func gridLayoutLikeMakeGrid() {
        // 5 grey 2 x 3 images (H = 2, W = 3), image k filled with value (k - 2) / 2.
        var data: [Float] = []
        for k in 0..<5 { data += Array(repeating: Float(k - 2) / 2, count: 6) }
        let batch = Tensor(data, shape: [5, 1, 2, 3])                  // [N, C, H, W]
        let grid = ImageGrid.make(batch, nrow: 2, padding: 1, scale: 2, padColor: .tab(0))
        // 2 columns, 3 rows of (3*2 + 1) x (2*2 + 1) cells, plus the outer padding.
        #expect(grid.width == 2 * 7 + 1 && grid.height == 3 * 5 + 1)
        #expect(grid[0, 0] == .tab(0))
        #expect(grid[1, 1] == Color.gray(0))                           // image 0: -1 -> black
        #expect(grid[8, 1] == Color(r: 64, g: 64, b: 64))              // image 1: -0.5
        #expect(grid[6, 4] == Color.gray(0))                           // bottom-right pixel of image 0
        #expect(grid[7, 1] == .tab(0))
        #expect(grid[1, 6] == Color(r: 128, g: 128, b: 128))           // image 2: 0
        #expect(grid[6, 14] == Color.gray(1) && grid[14, 14] == .tab(0)) // image 4 at row 2: +1
        #expect(grid[8, 11] == .tab(0))                                // empty sixth cell
    }

    @Test func clampsAndShowsColour() {
        // One 1 x 2 RGB image: a pixel beyond the range is clamped.
        let rgb = Tensor([5, -1, -5, 0, 0, 1], shape: [3, 1, 2])       // [C, H, W]
        let c = ImageGrid.image(rgb)
        #expect(c.width == 2 && c.height == 1)
        #expect(c[0, 0] == Color(r: 255, g: 0, b: 128))
        #expect(c[1, 0] == Color(r: 0, g: 128, b: 255))
        let grey = ImageGrid.image(Tensor([0, 0.5, 1, 0.25], shape: [2, 2]), scale: 3, range: 0...1)
        #expect(grey.width == 6 && grey[5, 5] == Color(r: 64, g: 64, b: 64))
    }
}
