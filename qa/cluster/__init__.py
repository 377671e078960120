"""Beyond one machine: an archive as shards, each one of today's archive folders."""
