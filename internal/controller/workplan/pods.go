package workplan

import (
	"fmt"
	"path"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
)

const (
	// workspaceVolume is the name of the hostPath volume every pod mounts.
	workspaceVolume = "workspace"
	// triggerObjectVolumeName is the downward API volume holding the
	// trigger's object.
	triggerObjectVolumeName = "kubeci-trigger"
	// cleanupTaskLabel is the kube.ci/task label value of cleanup pods.
	cleanupTaskLabel = "cleanup"
	// cleanupContainer is the name of the cleanup pod's container.
	cleanupContainer = "cleanup"
	// cleanerContainer is the name of the workspace cleaner, the native
	// sidecar of a run's last task pod (cleanerFor).
	cleanerContainer = "kubeci-cleanup"
	// workspacesVolume is the hostPath volume of the workflow's folder, which
	// the workspace cleaner mounts.
	workspacesVolume = "kubeci-workspaces"
	// cleanupMountPath is where the cleanup pod sees the workflow's folder
	// holding the workspace it removes.
	cleanupMountPath = "/workspaces"
	// annotationCleanupOf and annotationCleanupOfUID tie a cleanup pod to its
	// Workplan (name and UID), in place of an owner reference.
	annotationCleanupOf    = "kube.ci/cleanup-of"
	annotationCleanupOfUID = "kube.ci/cleanup-of-uid"
	// nodeNameField is the only field a node selector term can match: the
	// node's name, as the DaemonSet controller pins its pods.
	nodeNameField = "metadata.name"
)

// cleanupCommand is the command of the cleanup pod's container: the
// operator's cleanup subcommand (internal/workspace.Remove), which removes
// the workspace folder given as its argument, dotfiles and all, and fails
// when something is left. Options.CleanupImage must hold it: Kube CI's image
// does.
var cleanupCommand = []string{"/usr/local/bin/kubeci-operator", "cleanup"}

// workspacePath is the run's workspace folder on its node:
// <root>/<namespace>/<workflow>/<workplan>. Namespaces, Workflow and Workplan
// names are DNS names, so no part can be empty, "..", or hold a '/'.
func workspacePath(root string, wp *kubeciv1.Workplan) string {
	return path.Join(root, wp.Namespace, wp.Spec.Workflow, wp.Name)
}

// taskPod builds the pod that runs task index of wp: serial steps as init
// containers in order, parallel steps as containers, every one mounting the
// workspace at /kubeci. When node is not empty the pod must run there (a
// required node affinity, so that the scheduler still checks resources and
// taints). A task without parallel steps runs its last serial step as the
// pod's container, since a pod needs one. The last task's pod also gets the
// workspace cleaner (cleanerFor) as its first init container when
// cleanerImage is set and no step of the task has the cleaner's name.
func taskPod(wp *kubeciv1.Workplan, index int, root, node, cleanerImage string) (*corev1.Pod, error) {
	if index < 0 || index >= len(wp.Spec.Tasks) {
		return nil, fmt.Errorf("the Workplan has %d tasks, there is no task %d", len(wp.Spec.Tasks), index)
	}
	task := wp.Spec.Tasks[index]
	serial, parallel := task.SerialSteps, task.ParallelSteps
	if len(parallel) == 0 && len(serial) > 0 {
		serial, parallel = serial[:len(serial)-1], serial[len(serial)-1:]
	}
	if len(parallel) == 0 {
		return nil, fmt.Errorf("task %d of the Workplan has no steps: spec.tasks[%d] needs serialSteps or parallelSteps", index, index)
	}
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: podMeta(wp, names.TaskPod(wp.Name, index), strconv.Itoa(index)),
		Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			ServiceAccountName: wp.Spec.GetServiceAccountName(),
			Affinity:           pinnedTo(node),
			Volumes:            []corev1.Volume{hostPathVolume(workspaceVolume, workspacePath(root, wp))},
		},
	}
	if wp.Spec.Trigger.Object != "" {
		pod.Annotations = map[string]string{kubeciv1.AnnotationTriggerObject: wp.Spec.Trigger.Object}
		pod.Spec.Volumes = append(pod.Spec.Volumes, triggerObjectVolume())
	}
	if index == len(wp.Spec.Tasks)-1 && cleanerImage != "" && !slices.Contains(plan.StepNames(serial, parallel), cleanerContainer) {
		pod.Spec.Volumes = append(pod.Spec.Volumes, hostPathVolume(workspacesVolume, path.Dir(workspacePath(root, wp))))
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, cleanerFor(wp, cleanerImage))
	}
	for _, s := range serial {
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, stepContainer(wp, index, s))
	}
	for _, s := range parallel {
		pod.Spec.Containers = append(pod.Spec.Containers, stepContainer(wp, index, s))
	}
	return pod, nil
}

// stepContainer is the container of one step.
func stepContainer(wp *kubeciv1.Workplan, task int, s kubeciv1.Step) corev1.Container {
	c := corev1.Container{
		Name:       s.Name,
		Image:      s.Image,
		Command:    slices.Clone(s.Commands),
		Args:       slices.Clone(s.Args),
		Env:        append(plan.StepEnv(wp, task, s.Name), cloneEnv(s.Env)...),
		WorkingDir: s.WorkingDir,
		VolumeMounts: []corev1.VolumeMount{{
			Name:      workspaceVolume,
			MountPath: kubeciv1.WorkspaceMountPath,
		}},
		// A failed step's last log lines become its termination message, which
		// the Workplan's step status shows.
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	if wp.Spec.Trigger.Object != "" {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{
			Name:      triggerObjectVolumeName,
			MountPath: kubeciv1.TriggerObjectDir,
			ReadOnly:  true,
		})
	}
	if s.Resources != nil {
		c.Resources = *s.Resources.DeepCopy()
	}
	return c
}

// triggerObjectVolume puts the run's trigger object, which the pod carries in
// an annotation, in a file every step mounts (KUBECI_TRIGGER_OBJECT): the
// downward API reads it from the pod itself, so no other object is needed.
func triggerObjectVolume() corev1.Volume {
	return corev1.Volume{
		Name: triggerObjectVolumeName,
		VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
			Items: []corev1.DownwardAPIVolumeFile{{
				Path:     kubeciv1.TriggerObjectFile,
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + kubeciv1.AnnotationTriggerObject + "']"},
			}},
		}},
	}
}

// cleanupPod builds the attempt-th pod that removes wp's workspace from node.
// It mounts the workflow's folder (the workspace's parent, so that the
// workspace folder itself goes) and removes only the workspace. It tolerates
// a cordoned node, so that drained nodes are still cleaned, and gets no API
// token: it needs none.
//
// Unlike task pods it is not owned by the Workplan: deleting the Workplan
// (or its Workflow) with foreground propagation would have the garbage
// collector delete it before it ran. Annotations tie it to the Workplan
// instead, and the controller deletes it itself before it releases the
// Workplan's finalizer.
func cleanupPod(wp *kubeciv1.Workplan, attempt int, root, node, image string) *corev1.Pod {
	workflowDir := path.Dir(workspacePath(root, wp))
	meta := podMeta(wp, cleanupPodName(wp.Name, attempt), cleanupTaskLabel)
	meta.OwnerReferences = nil
	meta.Annotations = map[string]string{
		annotationCleanupOf:    wp.Name,
		annotationCleanupOfUID: string(wp.UID),
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: meta,
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			ServiceAccountName:           wp.Spec.GetServiceAccountName(),
			AutomountServiceAccountToken: ptr.To(false),
			Affinity:                     pinnedTo(node),
			Tolerations: []corev1.Toleration{{
				Key:      corev1.TaintNodeUnschedulable,
				Operator: corev1.TolerationOpExists,
				Effect:   corev1.TaintEffectNoSchedule,
			}},
			Volumes:    []corev1.Volume{hostPathVolume(workspaceVolume, workflowDir)},
			Containers: []corev1.Container{remover(cleanupContainer, workspaceVolume, image, path.Join(cleanupMountPath, wp.Name))},
		},
	}
}

// cleanerFor builds the workspace cleaner of wp's last task pod: a native
// sidecar (an init container with restartPolicy Always, so the kubelet starts
// it before the steps and stops it with SIGTERM once they have all exited,
// or once the pod is deleted or past its deadline, after the steps have
// stopped) running the cleanup subcommand with --on-sigterm from Kube CI's
// image. It mounts the workflow's folder as the cleanup pod does and, when
// stopped, removes the workspace with the same rules, exiting 0 only once it
// is gone. The operator reads that exit code from the pod's status
// (cleanedBySidecar): a run whose last task's pod ran it to the end needs no
// cleanup pod. It is not a step: it is left out of the run's steps and of the
// pod's verdict.
func cleanerFor(wp *kubeciv1.Workplan, image string) corev1.Container {
	c := remover(cleanerContainer, workspacesVolume, image, "--on-sigterm", path.Join(cleanupMountPath, wp.Name))
	c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
	return c
}

// remover is the container that removes a workspace with the cleanup
// subcommand of Kube CI's image (args are the subcommand's), seeing the
// workflow's folder, from volume, at cleanupMountPath.
func remover(name, volume, image string, args ...string) corev1.Container {
	return corev1.Container{
		Name:    name,
		Image:   image,
		Command: slices.Clone(cleanupCommand),
		Args:    args,
		// Steps may write files as any user: only root can remove
		// them all. The image's own user is the non-root 65532.
		SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](0), RunAsGroup: ptr.To[int64](0)},
		VolumeMounts: []corev1.VolumeMount{{
			Name:      volume,
			MountPath: cleanupMountPath,
		}},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("10m"),
				corev1.ResourceMemory: resource.MustParse("16Mi"),
			},
			Limits: corev1.ResourceList{
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
}

// cleanerStatus is the status of pod's workspace cleaner, or nil when the
// pod has none (an init container of the cleaner's name with restartPolicy
// Always: a step never has one) or the pod's status does not show it.
func cleanerStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	if !hasCleaner(pod) {
		return nil
	}
	for i := range pod.Status.InitContainerStatuses {
		if pod.Status.InitContainerStatuses[i].Name == cleanerContainer {
			return &pod.Status.InitContainerStatuses[i]
		}
	}
	return nil
}

// isCleaner reports whether pod's container of that name is its workspace
// cleaner.
func isCleaner(pod *corev1.Pod, name string) bool {
	return name == cleanerContainer && hasCleaner(pod)
}

// hasCleaner reports whether pod carries the workspace cleaner.
func hasCleaner(pod *corev1.Pod) bool {
	if pod == nil {
		return false
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == cleanerContainer && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			return true
		}
	}
	return false
}

// cleanupPodName names the attempt-th cleanup pod of a Workplan: the first is
// names.CleanupPod, retries get "-2", "-3"... Failed attempts are kept (for
// their logs) until the cleanup ends, so every attempt needs its own name.
func cleanupPodName(workplan string, attempt int) string {
	if attempt <= 1 {
		return names.CleanupPod(workplan)
	}
	return names.Short(fmt.Sprintf("%s-cleanup-%d", workplan, attempt), names.MaxLabelValue)
}

// podMeta is the metadata of a task pod of wp: labels to find it by, and wp
// as its controlling owner, so that deleting wp deletes it.
func podMeta(wp *kubeciv1.Workplan, name, task string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: wp.Namespace,
		Labels: map[string]string{
			kubeciv1.LabelWorkflow: names.LabelValue(wp.Spec.Workflow),
			kubeciv1.LabelWorkplan: names.LabelValue(wp.Name),
			kubeciv1.LabelTask:     task,
		},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion:         kubeciv1.GroupVersion.String(),
			Kind:               workplanKind,
			Name:               wp.Name,
			UID:                wp.UID,
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}},
	}
}

// pinnedTo is a required node affinity to the node of that name, or nil for
// no node. It matches the field metadata.name rather than the
// kubernetes.io/hostname label: the run records a node's name, and on some
// clouds a node's hostname label differs from its name.
func pinnedTo(node string) *corev1.Affinity {
	if node == "" {
		return nil
	}
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{
					Key:      nodeNameField,
					Operator: corev1.NodeSelectorOpIn,
					Values:   []string{node},
				}},
			}},
		},
	}}
}

func hostPathVolume(name, dir string) corev1.Volume {
	return corev1.Volume{
		Name: name,
		VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
			Path: dir,
			Type: ptr.To(corev1.HostPathDirectoryOrCreate),
		}},
	}
}

func cloneEnv(env []corev1.EnvVar) []corev1.EnvVar {
	out := make([]corev1.EnvVar, len(env))
	for i := range env {
		env[i].DeepCopyInto(&out[i])
	}
	return out
}

// workplanOf returns the name and UID of the Workplan a pod belongs to: its
// controlling owner, or for a cleanup pod the Workplan its annotations name.
func workplanOf(pod metav1.Object) (name string, uid types.UID) {
	if ref := metav1.GetControllerOf(pod); ref != nil {
		if ref.Kind == workplanKind && ref.APIVersion == kubeciv1.GroupVersion.String() {
			return ref.Name, ref.UID
		}
		return "", ""
	}
	a := pod.GetAnnotations()
	if pod.GetLabels()[kubeciv1.LabelTask] != cleanupTaskLabel || a[annotationCleanupOf] == "" {
		return "", ""
	}
	return a[annotationCleanupOf], types.UID(a[annotationCleanupOfUID])
}

// belongsTo reports whether pod is one of wp's pods.
func belongsTo(pod metav1.Object, wp *kubeciv1.Workplan) bool {
	name, uid := workplanOf(pod)
	return name == wp.Name && uid == wp.UID
}
