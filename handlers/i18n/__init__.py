"""Languages, dates, times, numbers and plurals: what each victim reads and types in their own."""
