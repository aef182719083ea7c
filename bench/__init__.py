"""`make bench`: the CRM measured against baselines started in the same run."""
