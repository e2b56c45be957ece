package v1alpha1

// Defaults of the fields that have one. The CRDs set them on every object
// the API server stores (+kubebuilder:default, which must spell the same
// values); the accessors below apply them to objects that did not go through
// an API server, such as a Workflow file that kubeci runs locally.
const (
	// DefaultServiceAccountName is the ServiceAccount of a Workflow that
	// names none.
	DefaultServiceAccountName = "default"
	// DefaultRunsHistoryLimit is how many Completed, and how many Failed,
	// Workplans of a Workflow are kept when it does not say.
	DefaultRunsHistoryLimit int32 = 10
)

// GetServiceAccountName is the ServiceAccount the Workflow's pods run as.
func (s *WorkflowSpec) GetServiceAccountName() string {
	if s.ServiceAccountName == "" {
		return DefaultServiceAccountName
	}
	return s.ServiceAccountName
}

// GetSuccessfulRunsHistoryLimit is how many Completed Workplans to keep.
func (s *WorkflowSpec) GetSuccessfulRunsHistoryLimit() int32 {
	if s.SuccessfulRunsHistoryLimit == nil {
		return DefaultRunsHistoryLimit
	}
	return *s.SuccessfulRunsHistoryLimit
}

// GetFailedRunsHistoryLimit is how many Failed Workplans to keep.
func (s *WorkflowSpec) GetFailedRunsHistoryLimit() int32 {
	if s.FailedRunsHistoryLimit == nil {
		return DefaultRunsHistoryLimit
	}
	return *s.FailedRunsHistoryLimit
}

// GetServiceAccountName is the ServiceAccount the run's pods run as.
func (s *WorkplanSpec) GetServiceAccountName() string {
	if s.ServiceAccountName == "" {
		return DefaultServiceAccountName
	}
	return s.ServiceAccountName
}
