// VERSION is this package's version, the "version" of package.json (a test
// keeps the two equal). webhookd has no version number in its tree yet (its
// builds are stamped with git describe), so it stays 0.0.0 until releases
// set one for webhookd and its SDKs alike.
export const VERSION = "0.0.0";
