// Using the Vestibule API from TypeScript with openapi-fetch and the types that
// openapi-typescript generates from openapi/openapi.json (see docs/sdks.md).
//
// CI (sdk/check.sh) regenerates generated/schema.d.ts from the checked-in spec and type-checks
// this file with `tsc --noEmit` in strict mode, so every path, parameter, header and body
// below must exist in the spec exactly as written here.
//
// It covers: staff sign-in, creating a client, paging through a list, a change guarded by
// `If-Match`, a create with `Idempotency-Key`, a raw upload of a document and its download.

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/schema.d.ts";

type Schemas = components["schemas"];
export type Client = Schemas["Client"];
export type Contact = Schemas["Contact"];
export type Document = Schemas["Document"];
export type Problem = Schemas["Problem"];

/** A failed call: the RFC 9457 problem document the API answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    super(problem ? `${status} ${problem.code}: ${problem.detail}` : `HTTP ${status}`);
  }
}

/** The data of a successful call, or an `ApiError` with the problem document. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) {
    throw new ApiError(result.response.status, result.error as Problem | undefined);
  }
  return result.data;
}

/** A typed client for one API address, e.g. `https://api.example.com`. */
export function connect(baseUrl: string) {
  const api = createClient<paths>({ baseUrl });
  let accessToken: string | undefined;
  const auth: Middleware = {
    onRequest({ request }) {
      if (accessToken !== undefined) {
        request.headers.set("Authorization", `Bearer ${accessToken}`);
      }
      return request;
    },
  };
  api.use(auth);
  return {
    api,
    /** Staff sign-in (`POST /v1/auth/login`); later requests carry the access token. */
    async signIn(firm: string, email: string, password: string): Promise<Schemas["SignedIn"]> {
      const answer = ok(await api.POST("/v1/auth/login", { body: { firm, email, password } }));
      // An account with two-factor sign-in answers a challenge for `POST /v1/auth/login/two-factor`.
      if (answer.status !== "signed_in") throw new Error(`sign-in needs a second step: ${answer.status}`);
      accessToken = answer.access_token;
      return answer;
    },
  };
}

type Api = ReturnType<typeof connect>["api"];

/** Creates a client (`POST /v1/clients`); the answer is `201` with the client. */
export async function createPersonClient(api: Api, name: string, email: string): Promise<Client> {
  const result = await api.POST("/v1/clients", {
    body: { kind: "person", name, emails: [email] },
  });
  const client = ok(result);
  // The new client's address and version come as headers too.
  console.log(`created ${client.id} at ${result.response.headers.get("Location")}`);
  return client;
}

/** Every client whose name contains `q`: `limit` per page, following `next_cursor`. */
export async function allClientsNamed(api: Api, q: string): Promise<Client[]> {
  const clients: Client[] = [];
  let cursor: string | undefined;
  do {
    const page = ok(
      await api.GET("/v1/clients", {
        params: { query: cursor === undefined ? { q, limit: 100 } : { q, limit: 100, cursor } },
      }),
    );
    clients.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return clients;
}

/**
 * Renames a client without overwriting a colleague's change: read it, send its `ETag` back in
 * `If-Match`. A `412 precondition_failed` means it changed in between; read again and retry.
 */
export async function renameClient(api: Api, clientId: Client["id"], name: string): Promise<Client> {
  for (let attempt = 1; ; attempt++) {
    const read = await api.GET("/v1/clients/{client_id}", {
      params: { path: { client_id: clientId } },
    });
    ok(read);
    const etag = read.response.headers.get("ETag");
    if (etag === null) {
      throw new Error("GET /v1/clients/{client_id} answered without an ETag");
    }
    const changed = await api.PATCH("/v1/clients/{client_id}", {
      params: { path: { client_id: clientId }, header: { "If-Match": etag } },
      body: { name },
    });
    if (changed.response.status === 412 && attempt < 3) {
      continue;
    }
    return ok(changed);
  }
}

/**
 * Creates a contact of the client with an `Idempotency-Key`, so that retrying after a timeout
 * cannot create it twice: a retry with the same key and body gets the first answer again, with
 * `idempotent-replayed: true`.
 */
export async function createContactOnce(
  api: Api,
  clientId: Client["id"],
  firstName: string,
  lastName: string,
  email: string,
  idempotencyKey: string = crypto.randomUUID(),
): Promise<Contact> {
  const request = {
    params: { header: { "Idempotency-Key": idempotencyKey } },
    body: {
      first_name: firstName,
      last_name: lastName,
      email,
      of: { kind: "client" as const, id: clientId },
    },
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await api.POST("/v1/contacts", request);
      if (result.error?.code === "idempotency_in_flight" && attempt < 5) {
        // 409: the first request with this key is still running; wait and ask again.
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        continue;
      }
      const contact = ok(result);
      if (result.response.headers.get("idempotent-replayed") === "true") {
        console.log(`contact ${contact.id} was created by an earlier attempt`);
      }
      return contact;
    } catch (err) {
      // A network error: the request may or may not have arrived. The same key makes the
      // retry safe.
      if (err instanceof ApiError || attempt >= 3) {
        throw err;
      }
    }
  }
}

/**
 * Uploads a file as the raw request body (`POST /v1/documents`, `application/octet-stream`).
 * The server detects the type from the bytes; `name` is what staff and the client see.
 */
export async function uploadDocument(
  api: Api,
  clientId: Client["id"],
  name: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<Document> {
  const result = await api.POST("/v1/documents", {
    params: { query: { client_id: clientId, name } },
    body: new Blob([bytes]),
    // Send the bytes as they are instead of JSON-encoding them.
    bodySerializer: (body) => body,
    headers: { "Content-Type": "application/octet-stream" },
  });
  const document = ok(result);
  console.log(`uploaded ${document.name}: ${document.content_type}, ${document.size} bytes, sha256 ${document.sha256}`);
  return document;
}

/** Downloads a document's bytes (`GET /v1/documents/{document_id}/content`). */
export async function downloadDocument(api: Api, documentId: Document["id"]): Promise<Blob> {
  return ok(
    await api.GET("/v1/documents/{document_id}/content", {
      params: { path: { document_id: documentId } },
      parseAs: "blob",
    }),
  );
}

/** The whole flow against the demo firm of `vestibule serve --demo`. */
export async function main(baseUrl = "http://127.0.0.1:8080"): Promise<void> {
  const { api, signIn } = connect(baseUrl);
  await signIn("demo", "owner@demo.vestibule.test", "vestibule-demo-owner");

  const run = crypto.randomUUID().slice(0, 8);
  const client = await createPersonClient(api, "Ada Lovelace", `ada-${run}@example.com`);
  const renamed = await renameClient(api, client.id, "Ada King, Countess of Lovelace");
  console.log(`${renamed.id} is now "${renamed.name}" (version ${renamed.version})`);

  const named = await allClientsNamed(api, "Ada");
  console.log(`${named.length} client(s) named Ada`);

  const contact = await createContactOnce(api, client.id, "Ada", "Lovelace", `ada.contact-${run}@example.com`);
  console.log(`contact ${contact.id} (${contact.email ?? "no email"})`);

  const text = new TextEncoder().encode("%PDF-1.4\n% a tiny example\n");
  const document = await uploadDocument(api, client.id, "Engagement letter.pdf", text);
  console.log(`document ${document.id} visible to the client: ${document.visible_to_client}`);
  const bytes = await downloadDocument(api, document.id);
  console.log(`downloaded ${bytes.size} bytes`);
}
