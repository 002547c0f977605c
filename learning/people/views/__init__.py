"""People's pages: login, invitations, notifications, people admin."""
