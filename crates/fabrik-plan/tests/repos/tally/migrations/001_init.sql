-- The first data-file layout; kept for the importer.
CREATE TABLE items (name TEXT PRIMARY KEY, count INTEGER NOT NULL);
