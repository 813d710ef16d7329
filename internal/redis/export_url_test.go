package redis

// Exported for the tests of the REDIS_URL forms.
var (
	ParseSentinelURL = parseSentinel
	ParseClusterURL  = parseCluster
	NewClient        = newClient
)
