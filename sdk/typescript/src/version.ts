// VERSION is this package's version, the "version" of package.json. It is
// webhookd's own: one number for webhookd and its SDKs, kept in the
// repository's VERSION file, and a test fails when the three differ.
export const VERSION = "0.1.0";
