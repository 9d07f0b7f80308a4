//! Reading manifests: YAML (one or many documents per file) or JSON, as `kubectl get -o yaml`
//! prints them. A `List` (or `PodList`, ...) is flattened into its items.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// A manifest that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML or JSON: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{origin}: an object needs apiVersion, kind and metadata.name ({object})")]
    Invalid { origin: String, object: String },
}

/// Every object in the `.yaml`, `.yml` and `.json` files under `dir` (sub-folders included, in
/// path order), Lists flattened.
pub fn load_dir(dir: &Path) -> Result<Vec<Value>, LoadError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let mut objects = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        let documents = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str::<Value>(&text)
                .map(|v| vec![v])
                .map_err(|e| e.to_string())
        } else {
            parse_yaml_documents(&text)
        };
        let documents = documents.map_err(|message| LoadError::Parse {
            path: path.clone(),
            message,
        })?;
        for document in documents {
            flatten(document, &mut objects);
        }
    }
    Ok(objects)
}

/// Every object in a YAML or JSON text (several `---` documents allowed), Lists flattened.
pub fn parse_objects(text: &str) -> Result<Vec<Value>, String> {
    let mut objects = Vec::new();
    for document in parse_yaml_documents(text)? {
        flatten(document, &mut objects);
    }
    Ok(objects)
}

fn parse_yaml_documents(text: &str) -> Result<Vec<Value>, String> {
    let mut documents = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| e.to_string())?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

fn flatten(document: Value, out: &mut Vec<Value>) {
    let is_list = document
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && document.get("items").is_some_and(Value::is_array);
    if is_list {
        if let Value::Object(mut map) = document
            && let Some(Value::Array(items)) = map.remove("items")
        {
            for item in items {
                flatten(item, out);
            }
        }
    } else {
        out.push(document);
    }
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_and_lists_are_flattened() {
        let text = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\
                    apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: a}\n\
                    - apiVersion: v1\n  kind: Pod\n  metadata: {name: q, namespace: a}\n---\n";
        let objects = parse_objects(text).unwrap();
        let names: Vec<_> = objects
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "p", "q"]);
    }

    #[test]
    fn bad_yaml_is_an_error_with_a_message() {
        assert!(parse_objects("a: [b").is_err());
    }
}
