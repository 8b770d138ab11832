import Foundation
import Testing

@testable import PinpostAgent

/// DS18B20 and IIO reads against fake sysfs trees (the root is configurable: gpio.sysfs_root).
@Suite("Sysfs sensors on fake trees")
struct SensorSysfsTests {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pinpost-sysfs-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    var files: SysfsFiles { SysfsFiles(root: root.path) }

    static let goodRead = "8f 01 55 00 7f ff 0c 10 a0 : crc=a0 YES\n8f 01 55 00 7f ff 0c 10 a0 t=24937\n"

    @Test func ds18b20ReadsMilliDegrees() throws {
        try write("bus/w1/devices/28-0316a2791aff/w1_slave", Self.goodRead)
        try write("bus/w1/devices/w1_bus_master1/uevent", "")
        let thermometer = try DS18B20(files: files, device: nil)  // first 28-* found
        #expect(thermometer.id == "28-0316a2791aff")
        #expect(try thermometer.read() == 24.937)
    }

    @Test func ds18b20NegativeTemperature() throws {
        let text = "5e ff 55 00 7f ff 0c 10 3d : crc=3d YES\n5e ff 55 00 7f ff 0c 10 3d t=-10125\n"
        #expect(try DS18B20.parse(text, source: "w1_slave") == -10.125)
    }

    @Test func ds18b20CRCNoIsRefusedNotPublished() throws {
        try write(
            "bus/w1/devices/28-0000000000aa/w1_slave",
            "8f 01 55 00 7f ff 0c 10 a0 : crc=33 NO\n8f 01 55 00 7f ff 0c 10 a0 t=24937\n"
        )
        let thermometer = try DS18B20(files: files, device: "28-0000000000aa")
        let error = try #require(throws: SensorReadError.self) { try thermometer.read() }
        #expect(error.code == .checksumFailed)
        #expect(error.message.contains("CRC check failed"))
        #expect(error.message.contains(root.path))
    }

    @Test func ds18b20EmptyReadIsAFailedConversion() throws {
        let error = try #require(throws: SensorReadError.self) { try DS18B20.parse("", source: "w1_slave") }
        #expect(error.code == .malformed)
    }

    @Test func ds18b20MissingDeviceNamesTheFolderAndWhatIsThere() throws {
        try write("bus/w1/devices/28-0316a2791aff/w1_slave", Self.goodRead)
        let error = try #require(throws: SensorReadError.self) { try DS18B20(files: files, device: "28-ffffffffffff") }
        #expect(error.code == .notFound)
        #expect(error.message.contains("28-ffffffffffff"))
        #expect(error.message.contains("28-0316a2791aff"))
        #expect(error.message.contains("fix:"))
        let none = try #require(throws: SensorReadError.self) {
            try DS18B20(files: SysfsFiles(root: root.appendingPathComponent("empty").path), device: nil)
        }
        #expect(none.message.contains("no DS18B20"))
    }

    @Test func iioProcessedTemperatureByDeviceName() throws {
        try write("bus/iio/devices/iio:device0/name", "ads1015\n")
        try write("bus/iio/devices/iio:device1/name", "bme280\n")
        try write("bus/iio/devices/iio:device1/in_temp_input", "25080\n")
        try write("bus/iio/devices/iio:device1/in_humidityrelative_input", "43320\n")
        try write("bus/iio/devices/iio:device1/in_pressure_input", "100.653253906\n")
        let temperature = try IIOChannel(files: files, device: "bme280", channel: "in_temp_input", unit: nil)
        #expect(abs(try temperature.read() - 25.08) < 1e-9)  // the payload rounds the binary noise away
        #expect(temperature.unit == "°C")
        let humidity = try IIOChannel(files: files, device: "iio:device1", channel: "in_humidityrelative", unit: nil)
        #expect(abs(try humidity.read() - 43.32) < 1e-9)
        #expect(humidity.unit == "%")
        let pressure = try IIOChannel(files: files, device: "bme280", channel: "in_pressure_input", unit: nil)
        #expect(pressure.unit == "kPa")
        #expect(abs(try pressure.read() - 100.653253906) < 1e-9)
    }

    @Test func iioRawUsesKernelScaleAndOffset() throws {
        try write("bus/iio/devices/iio:device0/name", "ads1015\n")
        try write("bus/iio/devices/iio:device0/in_voltage0_raw", "1000\n")
        try write("bus/iio/devices/iio:device0/in_voltage_scale", "3.000000\n")  // shared by type
        try write("bus/iio/devices/iio:device0/in_voltage0_offset", "-100\n")  // per channel
        let channel = try IIOChannel(files: files, device: "ads1015", channel: "in_voltage0_raw", unit: nil)
        #expect(try channel.read() == 2700)
        #expect(channel.unit == "mV")
        let custom = try IIOChannel(files: files, device: "ads1015", channel: "in_voltage0", unit: "V·1000")
        #expect(custom.unit == "V·1000")
    }

    @Test func iioMissingDeviceOrChannelSaysWhatExists() throws {
        try write("bus/iio/devices/iio:device0/name", "bme280\n")
        try write("bus/iio/devices/iio:device0/in_temp_input", "25080\n")
        let device = try #require(throws: SensorReadError.self) {
            try IIOChannel(files: files, device: "bmp180", channel: "in_temp_input", unit: nil)
        }
        #expect(device.code == .notFound)
        #expect(device.message.contains("iio:device0 (bme280)"))
        let channel = try #require(throws: SensorReadError.self) {
            try IIOChannel(files: files, device: "bme280", channel: "in_pressure_input", unit: nil)
        }
        #expect(channel.message.contains("in_temp_input"))
    }

    @Test func anUnreadableAttributeKeepsTheErrnoInItsMessage() throws {
        let error = try #require(throws: SensorReadError.self) { try files.read("bus/iio/devices/none/name") }
        #expect(error.code == .unreadable)
        #expect(error.message.contains("No such file or directory"))
    }

    @Test func channelTypes() {
        #expect(IIOChannel.channelType("in_temp") == "temp")
        #expect(IIOChannel.channelType("in_temp0") == "temp")
        #expect(IIOChannel.channelType("in_voltage3") == "voltage")
        #expect(IIOChannel.channelType("in_humidityrelative") == "humidityrelative")
    }
}
