"""Written assessment's pages: the learner's tasks and the assessor's marking."""
