"""Written assessment: drafts, submissions, marking, originality."""
