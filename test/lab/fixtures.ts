import { randomBytes } from "crypto";
import { HostStep, hostStep, makePlan, StepPlan } from "../../lib/steps";

/**
 * A small plan in the library's step format, independent of any component: it exercises the executor and the
 * prelude helpers (files, secret files, units, delete) on real hosts.
 *
 * Per host h: `h/config` (a file and a secret file) → `h/unit` (a systemd unit reading both).
 * Cross-host: `<first>/slow` (sleeps) → `<every other>/join` (needs the first host's unit and its own config).
 */
export interface FixturePlan {
  readonly plan: StepPlan;
  readonly secret: string;
  readonly steps: readonly HostStep[];
}

export const FIXTURE_DIR = "/etc/edgecloud-fixture";
export const FIXTURE_UNIT = "edgecloud-fixture.service";

export function fixturePlan(hosts: readonly string[], opts: { slowMs?: number } = {}): FixturePlan {
  const secret = `fixture-token-${randomBytes(12).toString("hex")}`;
  const slow = ((opts.slowMs ?? 1500) / 1000).toFixed(1);
  const steps: HostStep[] = [];
  for (const h of hosts) {
    steps.push(
      hostStep({
        host: h,
        name: "config",
        component: "lab-fixture",
        files: [
          { path: `${FIXTURE_DIR}/greeting`, mode: "0644", content: `hello from ${h}\n`, secret: false },
          { path: `${FIXTURE_DIR}/token`, mode: "0600", content: `${secret}\n`, secret: true },
        ],
        script: `ec_dir ${FIXTURE_DIR} 0755 root:root`,
        deleteScript: `ec_rm ${FIXTURE_DIR}`,
      }),
      hostStep({
        host: h,
        name: "unit",
        component: "lab-fixture",
        dependsOn: [`${h}/config`],
        files: [
          {
            path: `/etc/systemd/system/${FIXTURE_UNIT}`,
            mode: "0644",
            secret: false,
            content: [
              "[Unit]",
              "Description=edgecloud lab fixture",
              "[Service]",
              "Type=simple",
              // the secret is read from the file, never passed as an argument
              `ExecStart=/bin/bash -c 'read -r t < ${FIXTURE_DIR}/token; exec sleep infinity'`,
              "[Install]",
              "WantedBy=multi-user.target",
              "",
            ].join("\n"),
          },
        ],
        script: `ec_unit ${FIXTURE_UNIT} ${FIXTURE_DIR}/greeting ${FIXTURE_DIR}/token`,
        deleteScript: `ec_unit_remove ${FIXTURE_UNIT}`,
      }),
    );
  }
  const [first, ...rest] = hosts;
  steps.push(
    hostStep({
      host: first,
      name: "slow",
      component: "lab-fixture",
      dependsOn: [`${first}/unit`],
      script: `sleep ${slow}`,
    }),
  );
  for (const h of rest) {
    steps.push(
      hostStep({
        host: h,
        name: "join",
        component: "lab-fixture",
        dependsOn: [`${first}/slow`, `${h}/config`],
        script: `systemctl is-active --quiet ${FIXTURE_UNIT} || true
if [ ! -f ${FIXTURE_DIR}/joined ]; then echo ${first} > ${FIXTURE_DIR}/joined; ec_changed; fi`,
        deleteScript: `ec_rm ${FIXTURE_DIR}/joined`,
      }),
    );
  }
  return { plan: makePlan(steps), secret, steps };
}

/** A step that writes one file, sleeps, then writes another: cut between the two, a re-run must complete it. */
export function twoPhaseStep(host: string): HostStep {
  return hostStep({
    host,
    name: "two-phase",
    component: "lab-fixture",
    files: [{ path: `${FIXTURE_DIR}/phase-1`, mode: "0644", content: "one\n", secret: false }],
    script: `echo "phase-1 written" >&2
sleep 3
if [ ! -f ${FIXTURE_DIR}/phase-2 ]; then echo two > ${FIXTURE_DIR}/phase-2.tmp && mv ${FIXTURE_DIR}/phase-2.tmp ${FIXTURE_DIR}/phase-2; ec_changed; fi`,
    deleteScript: `ec_rm ${FIXTURE_DIR}/phase-1 ${FIXTURE_DIR}/phase-2`,
  });
}
