"""Personal data (UK GDPR): a learner's data export, erasure on request, and retention."""
