import { existsSync, statSync } from "fs";
import { nfsServerSteps } from "../../../components/nfs-provisioner";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { canRunStubHost, stubHost } from "../../support/stub-host";
import { hostsWithNfsOn, nfsProps } from "./props";

/**
 * The NFS disk guard, executed: blkid, lsblk and mkfs are stubs (no real disk is ever probed or formatted); the
 * device only has to exist as a block device for the step's `[ -b ]` check.
 */
const DEVICE = "/dev/loop0";
const maybe = canRunStubHost && existsSync(DEVICE) && statSync(DEVICE).isBlockDevice() ? describe : describe.skip;

const STUBS = {
  blkid: `echo "blkid $*" >>"$STUB_STATE/log"; exit "\${STUB_BLKID_RC:-2}"`,
  lsblk: `echo "lsblk $*" >>"$STUB_STATE/log"; echo loop0`,
  // stops the step right after formatting: this test is about whether it formats
  "mkfs.xfs": `echo "mkfs.xfs $*" >>"$STUB_STATE/log"; exit 1`,
};

maybe("NFS server disk guard, executed with stubbed blkid/mkfs", () => {
  const step = nfsServerSteps(
    nfsProps(
      {
        server: {
          kind: "host",
          host: "store-1",
          allowedClients: ["10.0.0.0/24"],
          disk: { device: DEVICE, fsType: "xfs" },
        },
      },
      hostsWithNfsOn("rocky-9"),
    ),
  )[0]!;
  const run = (rc: number) => {
    const host = stubHost({ stubs: STUBS });
    try {
      host.installed("nfs-utils");
      return host.run(renderStepBundle(step), { STUB_BLKID_RC: String(rc) });
    } finally {
      host.dispose();
    }
  };

  test("GIVEN blkid -p exits 8 (several signatures: ambivalent) THEN the disk is refused and mkfs never runs", () => {
    const r = run(8);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`refusing to format ${DEVICE}: it has partitions or a signature (blkid -p exit 8)`);
    expect(r.calls.some((c) => c.startsWith("mkfs"))).toBe(false);
  });

  test("GIVEN blkid -p exits 0 (a signature) or 4 (an error) THEN mkfs never runs either", () => {
    for (const rc of [0, 4]) expect(run(rc).calls.some((c) => c.startsWith("mkfs"))).toBe(false);
  });

  test("GIVEN blkid -p exits 2 (nothing found) and no partitions THEN the disk is formatted", () => {
    expect(run(2).calls).toContain(`mkfs.xfs -q ${DEVICE}`);
  });
});
