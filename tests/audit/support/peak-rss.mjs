// Preloaded (node --import) into a process whose memory a test measures: prints its peak resident
// set size to standard error when it exits.
process.on('exit', () => {
  process.stderr.write(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`);
});
