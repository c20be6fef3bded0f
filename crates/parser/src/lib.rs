//! Parser for the syslog stream of FortiGate and FortiAuthenticator.
//!
//! Bytes go in, records that borrow from the frame come out.
