// Async iteration over the API's list pages: every List call answers a page
// and a next_page_token, empty on the last page.

/**
 * paginate yields every item of every page, fetching the next page only when
 * the caller has consumed the previous one (so breaking out of a for await
 * loop stops the calls).
 */
export async function* paginate<T>(
  fetchPage: (pageToken: string) => Promise<{ items: T[]; nextPageToken: string }>,
): AsyncGenerator<T, void, undefined> {
  let token = "";
  for (;;) {
    const page = await fetchPage(token);
    yield* page.items;
    if (!page.nextPageToken) return;
    if (page.nextPageToken === token) {
      throw new Error(`webhookd returned the same page token twice (${token}); stopping`);
    }
    token = page.nextPageToken;
  }
}
