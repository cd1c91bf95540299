package manifests

import "golang.org/x/sys/unix"

// localFileSystems are the file systems on which every change to a file, whoever makes it,
// goes through this kernel and so reaches inotify. Network and FUSE file systems are not
// among them: another client's write is never reported there.
var localFileSystems = map[int64]bool{
	unix.EXT4_SUPER_MAGIC:      true, // also ext2 and ext3
	unix.XFS_SUPER_MAGIC:       true,
	unix.BTRFS_SUPER_MAGIC:     true,
	unix.TMPFS_MAGIC:           true, // emptyDir in memory, /tmp, mounted Secrets
	unix.RAMFS_MAGIC:           true,
	unix.OVERLAYFS_SUPER_MAGIC: true, // a container's root file system
	unix.F2FS_SUPER_MAGIC:      true,
	unix.SQUASHFS_MAGIC:        true,
	0x2fc12fc1:                 true, // ZFS
}

// reportsAllChanges reports a folder on a local file system, where inotify sees every
// change. Anything else, or a folder that cannot be asked, is polled.
func reportsAllChanges(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	return localFileSystems[int64(st.Type)] //nolint:unconvert // Type is int32 on some architectures
}
