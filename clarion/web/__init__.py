"""What every public page shares: the page cache and its invalidation, the content
generation, throttling, request ids and request logs, CSP. Imports only clarion.lib."""
