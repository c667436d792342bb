"""Resources: thesauri readers, the versioned cache, and the build step."""
