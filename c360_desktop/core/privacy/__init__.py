"""Privacy: pseudonymised copies of a cache for analysis and testing (issue 21, item 9)."""
