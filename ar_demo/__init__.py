"""Demo sources: seeded practices in Sikka's shape, with defects planted on purpose."""
