// Package docs holds webhookd's documentation, Markdown files for people.
// It has no code: its tests check what a reader of the documentation relies
// on and nothing else checks, that every relative link and anchor of
// README.md, CONTRIBUTING.md and docs/ resolves (links_test.go), and that
// the files and functions docs/architecture.md names exist where it says
// (architecture_test.go), so that renaming code without the documentation
// fails the build.
package docs
