"""People: accounts, roles, centres, cohort membership, who may see whom, invitations, inbox."""
