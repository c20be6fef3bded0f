//! Turns parsed records into MFA login attempts, window statistics and findings.
