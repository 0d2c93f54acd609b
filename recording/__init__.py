"""The case archive: hash-chained audit logs, WebM track recording, signed manifests.

Modules: `canonical` (JSON/hash helpers), `audit` (AuditLog, SystemAuditLog),
`keys` (Ed25519 archive key), `webm` (TrackWriter), `manifest`, `archive`
(SessionArchive), `recovery` (recover_open_sessions), `verify` (verify_path, main).
"""
