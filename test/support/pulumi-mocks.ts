import * as pulumi from "@pulumi/pulumi";

/** Every resource the program registered, in order, with its inputs. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly id: string;
}

export const recorded: RecordedResource[] = [];

/** State returned for a resource read (`X.get(name, id)`), by type and id; override in a test to simulate a cluster. */
export const mockRead: { state: (type: string, id: string) => Record<string, unknown> | undefined } = {
  state: () => undefined,
};

/** What a mocked remote command (or in-process HostStepRun) prints, by resource name; override in a test to simulate hosts. */
export const mockCommand: { stdout: (name: string) => string } = {
  stdout: (name) =>
    name.endsWith("kubeconfig") ? "apiVersion: v1\nkind: Config\nclusters: []\n" : "edgecloud-step: changed=0\n",
};

/**
 * Installs Pulumi mocks: resources echo their inputs; in-process dynamic resources (RandomSecret,
 * CertificateAuthority, Certificate) get deterministic fake outputs so renderers can run.
 */
export function setupPulumiMocks(): void {
  // A whole environment under mocks registers hundreds of resources: measured up to ~9 s per test on a 2-core
  // machine at load 4; the limit is generous so that only a hang fails, never a slow machine.
  jest.setTimeout(180_000);
  void pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const read = args.id ? mockRead.state(args.type, args.id) : undefined;
        if (read) {
          recorded.push({ type: args.type, name: args.name, inputs: args.inputs, id: args.id! });
          return { id: args.id!, state: read };
        }
        const state: Record<string, any> = { ...args.inputs };
        if (args.type.startsWith("pulumi-nodejs:")) {
          for (const k of ["value", "certPem", "keyPem", "notAfter", "token"]) {
            if (state[k] === undefined || state[k] === null || state[k] === "") {
              state[k] = k === "notAfter" ? "2036-01-01T00:00:00.000Z" : `MOCK-${k}-${args.name}`;
            }
          }
        }
        if (args.type === "command:remote:Command" || args.type === "pulumi-nodejs:dynamic/edgecloud:HostStepRun") {
          state.stdout = mockCommand.stdout(args.name);
          state.stderr = "";
        }
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, id: `${args.name}-id` });
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    "edgecloud",
    "test",
    false,
  );
}

/** Resolves an Output (or plain value) in a test. */
export function valueOf<T>(o: pulumi.Input<T> | undefined): Promise<T> {
  return new Promise((resolve) => pulumi.output(o as pulumi.Input<T>).apply((v) => resolve(v as T)));
}

/** True when the Output is marked secret. */
export function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(o);
}

/** Waits until every registered resource's mock has been recorded. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

const deps = new Map<string, string[]>();
let depsHooked = false;

/**
 * The mock monitor drops resource dependencies; this hooks it (once, after setupPulumiMocks) to keep them by
 * resource name so tests can assert on the graph.
 */
export function recordDependencies(): void {
  if (depsHooked) return;
  depsHooked = true;
  const monitor = (require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any }).getMonitor();
  for (const method of ["registerResource", "readResource"] as const) {
    const orig = monitor[method].bind(monitor);
    monitor[method] = (req: any, cb: unknown) => {
      deps.set(
        req.getName(),
        (req.getDependenciesList() as string[]).map((u) => u.split("::").pop()!),
      );
      return orig(req, cb);
    };
  }
}

/** Names of the resources `name` depends on (sorted). */
export async function dependenciesOf(name: string): Promise<string[]> {
  await settle();
  return [...(deps.get(name) ?? [])].sort();
}

/** The engine's marker for a secret input value (`{ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value }`). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Whether a recorded input is a secret envelope. */
export const isSecretInput = (v: unknown): boolean => typeof v === "object" && v !== null && SECRET_SIG in v;
/** A recorded input's value, its secret envelope (if any) removed. */
export const plain = (v: unknown): any => (isSecretInput(v) ? (v as { value: unknown }).value : v);
