"""What support needs to know about this installation: versions, paths, the cache's size and
integrity, sync and broker state, plugins, the recent log; and a bundle of it for support."""
