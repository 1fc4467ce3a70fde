"""Model adapters, one per stage kind; they know nothing about processes or rings."""
