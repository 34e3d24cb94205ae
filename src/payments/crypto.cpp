// Payment protocols: crypto (to be written).
