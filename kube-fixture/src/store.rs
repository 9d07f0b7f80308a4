//! The objects, indexed at load time by resource and namespace, each serialized once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use serde_json::{Value, json};

use crate::manifests::LoadError;
use crate::resources::{self, ResourceInfo};

/// One stored object: what lists filter on, and its JSON, serialized once.
#[derive(Debug)]
pub struct Item {
    pub namespace: Option<String>,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub json: Vec<u8>,
}

/// The objects of one resource, sorted by namespace and name.
#[derive(Debug)]
pub struct Collection {
    pub info: ResourceInfo,
    pub items: Vec<Item>,
    /// Where each namespace's objects are in `items`.
    pub namespaces: HashMap<String, Range<usize>>,
}

impl Collection {
    /// The index range of a namespace's objects (empty when it has none).
    pub fn range(&self, namespace: Option<&str>) -> Range<usize> {
        match namespace {
            Some(ns) => self.namespaces.get(ns).cloned().unwrap_or(0..0),
            None => 0..self.items.len(),
        }
    }

    pub fn get(&self, namespace: Option<&str>, name: &str) -> Option<&Item> {
        let range = self.range(namespace);
        let slice = &self.items[range];
        slice
            .binary_search_by(|item| item.name.as_str().cmp(name))
            .ok()
            .map(|i| &slice[i])
    }
}

/// Every served resource, keyed by (group, plural).
#[derive(Debug)]
pub struct Store {
    pub collections: BTreeMap<(String, String), Collection>,
    /// Groups in discovery order, each with its one served version.
    pub groups: Vec<(String, String)>,
    /// The list resourceVersion: the highest one any object has.
    pub resource_version: u64,
}

impl Store {
    pub fn build(objects: Vec<Value>) -> Result<Store, LoadError> {
        let mut infos: Vec<ResourceInfo> = resources::built_in();
        let known_custom = resources::known_custom();

        // CRDs in the fixture declare their resources even when no object of theirs exists.
        for object in &objects {
            if object.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
                && let Some(info) = resources::from_crd(object)
                && !infos
                    .iter()
                    .any(|i| i.group == info.group && i.plural == info.plural)
            {
                infos.push(info);
            }
        }

        let mut grouped: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
        let mut counter: u64 = 1000;
        let mut max_version: u64 = 0;
        let mut referenced_namespaces = BTreeSet::new();
        for mut object in objects {
            let invalid = |object: &Value| LoadError::Invalid {
                origin: "fixture".to_string(),
                object: truncate(&object.to_string()),
            };
            let (Some(api_version), Some(kind), Some(_name)) = (
                object.get("apiVersion").and_then(Value::as_str),
                object.get("kind").and_then(Value::as_str),
                object.pointer("/metadata/name").and_then(Value::as_str),
            ) else {
                return Err(invalid(&object));
            };
            let (group, version) = resources::split_api_version(api_version);
            let has_namespace = object.pointer("/metadata/namespace").is_some();
            let info = match infos.iter().find(|i| i.group == group && i.kind == kind) {
                Some(info) => info.clone(),
                None => {
                    let info = known_custom
                        .iter()
                        .find(|i| i.group == group && i.kind == kind)
                        .cloned()
                        .unwrap_or_else(|| resources::guessed(group, version, kind, has_namespace));
                    infos.push(info.clone());
                    info
                }
            };
            if info.namespaced && !has_namespace {
                object["metadata"]["namespace"] = json!("default");
            }
            if !info.namespaced
                && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
            {
                meta.remove("namespace");
            }
            counter += 1;
            let metadata = &mut object["metadata"];
            match metadata.get("resourceVersion").and_then(Value::as_str) {
                Some(rv) => max_version = max_version.max(rv.parse().unwrap_or(0)),
                None => metadata["resourceVersion"] = json!(counter.to_string()),
            }
            if metadata.get("uid").is_none() {
                metadata["uid"] = json!(format!("00000000-0000-4000-8000-{counter:012x}"));
            }
            if let Some(ns) = metadata.get("namespace").and_then(Value::as_str) {
                referenced_namespaces.insert(ns.to_string());
            }
            grouped
                .entry((info.group.clone(), info.plural.clone()))
                .or_default()
                .push(object);
        }

        // A namespace that objects live in exists, even when the fixture has no object for it.
        let namespaces = grouped
            .entry((String::new(), "namespaces".to_string()))
            .or_default();
        let present: BTreeSet<String> = namespaces
            .iter()
            .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        for ns in referenced_namespaces.difference(&present) {
            counter += 1;
            namespaces.push(json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": ns,
                    "labels": {"kubernetes.io/metadata.name": ns},
                    "resourceVersion": counter.to_string(),
                    "uid": format!("00000000-0000-4000-8000-{counter:012x}"),
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }));
        }

        let mut collections = BTreeMap::new();
        let mut groups: Vec<(String, String)> = Vec::new();
        for info in infos {
            let key = (info.group.clone(), info.plural.clone());
            let objects = grouped.remove(&key).unwrap_or_default();
            if !groups.iter().any(|(g, _)| *g == info.group) {
                groups.push((info.group.clone(), info.version.clone()));
            }
            collections.insert(key, collection(info, objects)?);
        }
        Ok(Store {
            collections,
            groups,
            resource_version: counter.max(max_version),
        })
    }

    pub fn collection(&self, group: &str, plural: &str) -> Option<&Collection> {
        self.collections
            .get(&(group.to_string(), plural.to_string()))
    }

    /// The served resources of one group and version, in discovery order.
    pub fn resources_of(&self, group: &str, version: &str) -> Vec<&ResourceInfo> {
        let mut infos: Vec<&ResourceInfo> = self
            .collections
            .values()
            .map(|c| &c.info)
            .filter(|i| i.group == group && i.version == version)
            .collect();
        infos.sort_by(|a, b| a.plural.cmp(&b.plural));
        infos
    }
}

fn collection(info: ResourceInfo, objects: Vec<Value>) -> Result<Collection, LoadError> {
    let mut items = Vec::with_capacity(objects.len());
    for object in objects {
        let metadata = &object["metadata"];
        let labels = metadata
            .get("labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        items.push(Item {
            namespace: metadata
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_string),
            name: metadata["name"].as_str().unwrap_or_default().to_string(),
            labels,
            json: serde_json::to_vec(&object).map_err(|e| LoadError::Invalid {
                origin: "fixture".to_string(),
                object: e.to_string(),
            })?,
        });
    }
    items.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let mut namespaces: HashMap<String, Range<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(ns) = &item.namespace {
            namespaces
                .entry(ns.clone())
                .and_modify(|r| r.end = i + 1)
                .or_insert(i..i + 1);
        }
    }
    Ok(Collection {
        info,
        items,
        namespaces,
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}
