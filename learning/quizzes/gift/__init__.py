"""Moodle GIFT: parse into quiz questions and export back."""
