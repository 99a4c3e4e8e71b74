"""Value types: IMEI, phone number, reference and access code, statuses."""
