import Testing
@testable import Figures

@Suite struct TicksTests {
    @Test func niceStepsFollowOneTwoFive() {
        #expect(Ticks.niceStep(span: 1, maxCount: 5) == 0.2)
        #expect(Ticks.niceStep(span: 1, maxCount: 10) == 0.1)
        #expect(Ticks.niceStep(span: 1000, maxCount: 6) == 200)
        #expect(Ticks.niceStep(span: 7, maxCount: 5) == 2)
        #expect(Ticks.niceStep(span: 0.03, maxCount: 6) == 0.005)
        #expect(Ticks.niceStep(span: 3e-5, maxCount: 4) == 1e-5)
    }

    @Test func linearTicksGolden() {
        #expect(Ticks.linear(0, 1, maxCount: 6) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        #expect(Ticks.labels(for: Ticks.linear(0, 1, maxCount: 6)) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(Ticks.labels(for: Ticks.linear(-0.05, 1.05, maxCount: 12)) ==
                ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"])
        #expect(Ticks.labels(for: Ticks.linear(-50, 1050, maxCount: 8)) == ["0", "200", "400", "600", "800", "1000"])
        #expect(Ticks.labels(for: Ticks.linear(-4.4, 4.4, maxCount: 5)) == ["-4", "-2", "0", "2", "4"])
        #expect(Ticks.labels(for: Ticks.linear(-0.3, 0.3, maxCount: 7)) == ["-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2", "0.3"])
        #expect(Ticks.labels(for: Ticks.linear(0.0975, 0.1026, maxCount: 6)) == ["0.098", "0.099", "0.100", "0.101", "0.102"])
    }

    @Test func tinyAndHugeValuesUseCompactScientificNotation() {
        #expect(Ticks.labels(for: Ticks.linear(0, 2e-5, maxCount: 5)) == ["0", "5e-6", "1e-5", "1.5e-5", "2e-5"])
        #expect(Ticks.labels(for: Ticks.linear(0, 3e6, maxCount: 4)) == ["0", "1e6", "2e6", "3e6"])
        #expect(Ticks.labels(for: Ticks.linear(1e5, 1.5e5, maxCount: 6)) == ["1e5", "1.1e5", "1.2e5", "1.3e5", "1.4e5", "1.5e5"])
    }

    @Test func logTicks() {
        let (major, minor) = Ticks.log(0.04, 3, maxCount: 6)
        #expect(major == [0.1, 1])
        #expect(minor.first == 0.04 && minor.last == 3 && minor.count == 6 + 8 + 2)
        #expect(Ticks.logLabels(for: [1e-6, 0.001, 0.1, 1, 10, 10000, 1e5]) ==
                ["1e-6", "0.001", "0.1", "1", "10", "10000", "1e5"])
        // Many decades: every other power of ten, no minors.
        let wide = Ticks.log(1e-8, 1, maxCount: 5)
        #expect(wide.major == [1e-8, 1e-6, 1e-4, 0.01, 1])
        #expect(wide.minor.isEmpty)
        // Less than a decade: linear ticks.
        #expect(Ticks.log(2, 9, maxCount: 4).major == [2, 4, 6, 8])
    }

    @Test func autoLimitsAddAMargin() {
        let r = AxisMap.autoLimits([0, 10], scale: .linear, margin: 0.05)
        #expect(r == -0.5...10.5)
        let single = AxisMap.autoLimits([3], scale: .linear, margin: 0.05)
        #expect(single.contains(3) && single.upperBound - single.lowerBound >= 1)
        let log = AxisMap.autoLimits([0.01, 0, -1, 100], scale: .log, margin: 0)
        #expect(abs(log.lowerBound - 0.01) < 1e-12 && abs(log.upperBound - 100) < 1e-9)
    }
}
