"""RQ worker entry point and job functions. Jobs take ids, update our own status
rows and raise on failure; the logic they run lives in `service`."""
