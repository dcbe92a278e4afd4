"""Updates from a location IT configures: a newer installer found, checked and handed over."""
