//! Sinks that deliver findings and statistics: Kafka, stdout and files.
