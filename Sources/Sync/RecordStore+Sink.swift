import KioskCore

extension RecordStore: ScanRecordSink {}
