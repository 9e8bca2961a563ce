"""Taking a call: the problem asked about, the asset found, parts predicted, the job made."""
