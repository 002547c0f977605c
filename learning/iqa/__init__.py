"""Internal quality assurance: sampling plans, samples, reviews, the IQA report."""
