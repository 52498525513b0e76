// kinds.mjs — which schema checks each kind of object written to the test
// API server: "apiVersion/Kind" -> an upstream model class (npm package,
// module, export), or a definition in a schema file of this folder for the
// kinds that publish none (Flagger's CRDs, SMI).  A kind perch starts to
// write (a new router's object) is one more line here; an object of a kind
// missing from this table fails the check.

const up = (module, name) => ({ module, name });
const local = (file, def) => ({ file, def });

export const KINDS = {
	// core, apps, coordination, networking (kubernetes-models)
	"v1/Namespace": up("kubernetes-models/v1/Namespace", "Namespace"),
	"v1/Service": up("kubernetes-models/v1/Service", "Service"),
	"v1/ConfigMap": up("kubernetes-models/v1/ConfigMap", "ConfigMap"),
	"v1/Secret": up("kubernetes-models/v1/Secret", "Secret"),
	"v1/Event": up("kubernetes-models/v1/Event", "Event"),
	"apps/v1/Deployment": up("kubernetes-models/apps/v1/Deployment", "Deployment"),
	"apps/v1/DaemonSet": up("kubernetes-models/apps/v1/DaemonSet", "DaemonSet"),
	"v1/ServiceAccount": up("kubernetes-models/v1/ServiceAccount", "ServiceAccount"),
	"rbac.authorization.k8s.io/v1/ClusterRole":
		up("kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole", "ClusterRole"),
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding":
		up("kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding", "ClusterRoleBinding"),
	"coordination.k8s.io/v1/Lease": up("kubernetes-models/coordination.k8s.io/v1/Lease", "Lease"),
	"networking.k8s.io/v1/Ingress": up("kubernetes-models/networking.k8s.io/v1/Ingress", "Ingress"),
	// routers
	"gateway.networking.k8s.io/v1/HTTPRoute":
		up("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute", "HTTPRoute"),
	"gateway.networking.k8s.io/v1beta1/HTTPRoute":
		up("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/HTTPRoute", "HTTPRoute"),
	"networking.istio.io/v1beta1/VirtualService":
		up("@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService", "VirtualService"),
	"networking.istio.io/v1beta1/DestinationRule":
		up("@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule", "DestinationRule"),
	"traefik.io/v1alpha1/TraefikService":
		up("@kubernetes-models/traefik/traefik.io/v1alpha1/TraefikService", "TraefikService"),
	"serving.knative.dev/v1/Service":
		up("@kubernetes-models/knative/serving.knative.dev/v1/Service", "Service"),
	"serving.knative.dev/v1/Revision":
		up("@kubernetes-models/knative/serving.knative.dev/v1/Revision", "Revision"),
	"projectcontour.io/v1/HTTPProxy": local("routers.schema.json", "HTTPProxy"),
	"gloo.solo.io/v1/Upstream": local("routers.schema.json", "Upstream"),
	"gateway.solo.io/v1/RouteTable": local("routers.schema.json", "RouteTable"),
	"kuma.io/v1alpha1/TrafficRoute": local("routers.schema.json", "TrafficRoute"),
	"apisix.apache.org/v2/ApisixRoute": local("routers.schema.json", "ApisixRoute"),
	"appmesh.k8s.aws/v1beta2/VirtualNode": local("appmesh.schema.json", "VirtualNodeV1beta2"),
	"appmesh.k8s.aws/v1beta2/VirtualRouter": local("appmesh.schema.json", "VirtualRouterV1beta2"),
	"appmesh.k8s.aws/v1beta2/VirtualService": local("appmesh.schema.json", "VirtualServiceV1beta2"),
	"appmesh.k8s.aws/v1beta1/VirtualNode": local("appmesh.schema.json", "VirtualNodeV1beta1"),
	"appmesh.k8s.aws/v1beta1/VirtualService": local("appmesh.schema.json", "VirtualServiceV1beta1"),
	"split.smi-spec.io/v1alpha1/TrafficSplit": local("smi.schema.json", "v1alpha1"),
	"split.smi-spec.io/v1alpha2/TrafficSplit": local("smi.schema.json", "v1alpha2"),
	"split.smi-spec.io/v1alpha3/TrafficSplit": local("smi.schema.json", "v1alpha3"),
	// Flagger's own
	"flagger.app/v1beta1/Canary": local("flagger.schema.json", "Canary"),
	"flagger.app/v1beta1/MetricTemplate": local("flagger.schema.json", "MetricTemplate"),
	"flagger.app/v1beta1/AlertProvider": local("flagger.schema.json", "AlertProvider"),
	// Keptn's, read and written by the keptn metric provider
	"metrics.keptn.sh/v1beta1/KeptnMetric": local("keptn.schema.json", "KeptnMetric"),
	"metrics.keptn.sh/v1beta1/Analysis": local("keptn.schema.json", "Analysis"),
};

// Checks the metadata of objects whose schema is a local one.
export const OBJECT_META = up("@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta", "ObjectMeta");
