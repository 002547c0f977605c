"""People's forms: login and passwords, people admin and CSV enrolment."""
