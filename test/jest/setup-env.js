// Keep test output readable: the platform logs at warn unless a test asks for more.
process.env.KINDLING_LOG_LEVEL ??= 'warn';
