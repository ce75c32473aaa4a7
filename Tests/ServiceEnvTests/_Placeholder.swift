// Placeholder so the target is not empty while its files are written; delete once a real file lands.
