package postgres

// CleanupInBatches is Cleanup with a batch size of the test's choosing.
var CleanupInBatches = cleanup
