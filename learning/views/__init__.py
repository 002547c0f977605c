"""Blueprints, one per area; views stay thin: parse, authorise, call a service, render."""
